"""Rest-hook subscriptions: who wants to hear about which referrals."""
