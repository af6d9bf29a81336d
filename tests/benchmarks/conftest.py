import pytest


@pytest.fixture
def client(keyed_client):
    """The benchmark's requests are a client's: Django's test client with the owner's key."""
    return keyed_client
