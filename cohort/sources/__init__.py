"""The warehouse contract, above the rules and storage: the identified raw tables of the data
warehouse declared once (``contract``), the checks compiled from it with their quarantine
(``checks``), and the ``warehouse/<table>`` check assets (``defs``). May import the rules and
storage only.
"""
