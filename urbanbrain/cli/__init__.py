"""The ``urbanbrain`` command line."""
