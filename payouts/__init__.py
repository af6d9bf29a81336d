"""The payouts domain: the Payout model, its status machine, validation and every write."""
