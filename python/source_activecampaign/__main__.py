"""`python -m source_activecampaign ARGS`: the same as the `source-activecampaign` executable."""
from .cli import main

main()
