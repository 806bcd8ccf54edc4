"""The `capdesk` command line."""
