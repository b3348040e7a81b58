"""The source contract: the identified raw tables of the data warehouse and how they are checked."""
