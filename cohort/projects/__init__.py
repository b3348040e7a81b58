"""One sub-package per deliberation: its spec (YAML), SQL, schemas and assets sit together."""
