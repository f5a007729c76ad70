"""The wiki's own pages: articles, Special:OAuthListConsumers, Special:OAuthManageMyGrants."""
