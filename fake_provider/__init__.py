"""A fake payment provider speaking Provider HTTP contract v1, for development and tests."""
