"""The artist and label dashboard served at `/` (issue 19): see docs/dashboard.md."""
