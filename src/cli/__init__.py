"""cli: the `royalty` command line. Nothing imports cli."""
