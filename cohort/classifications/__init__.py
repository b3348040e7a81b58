"""Code lists and the small pure rules that classify people (origin cascade, classes, coarsening).

Code lists follow docs/domain_facts.md; where that file marks a code as
unconfirmed, the code list says so in a comment.
"""
