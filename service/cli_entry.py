"""`python -m service.cli_entry ...`: the firebreak command without the console script."""

from service.cli import main

if __name__ == "__main__":
    main()
