"""A customer's data rights: export everything held about them, erase (anonymize) them, and
anonymize a merchant's inactive customers after the merchant's retention period.

``export`` gathers, ``erasure`` anonymizes, ``retention`` finds the inactive customers and
runs the erasure on them in keyset chunks; ``tasks`` is the daily job and ``cli`` the
``flask customers`` commands. Like every service these functions flush and never commit.
"""
