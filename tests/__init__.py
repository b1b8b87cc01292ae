"""Unit, integration and end-to-end tests, and the helpers they share."""
