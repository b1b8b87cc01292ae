"""Contracts that more than one layer reads: one definition, imported everywhere."""
