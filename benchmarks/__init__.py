"""`make bench`: the payout service measured on its real stack against baselines of the same run."""
