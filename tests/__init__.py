"""Unit, integration and end-to-end tests (model unit tests sit in models/)."""
