"""Tests of the data hub."""
