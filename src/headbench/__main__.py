"""`python -m headbench ...`: the same as the `headbench` command."""
from headbench.commands import main

main()
