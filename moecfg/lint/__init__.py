"""`moecfg lint`: coded rules over config.json files, for CI and pre-commit.

Data flows one way: paths → discovered files (`discovery`) → per-file context (`context`:
the raw dict, the family's Field reads and the adapter's parse) → rules (`rules`) → selected
findings (`selection`) → an output format (`output`).
"""
