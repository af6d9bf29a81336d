"""The GraphQL surface over the payouts domain (Strawberry + strawberry-graphql-django)."""
