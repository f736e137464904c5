"""Any county's scenario from its towns, fitted to its platform case data and checked on held-out months."""
