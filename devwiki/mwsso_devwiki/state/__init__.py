"""The wiki's state: users, consumers, OAuth 1.0a and 2.0 records, pages, and the config they start from."""
