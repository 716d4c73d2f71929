"""`python -m comunicast`."""

from comunicast.cli.entry import main

if __name__ == "__main__":
    main()
