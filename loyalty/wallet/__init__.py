"""Google Wallet passes for loyalty cards.

``google`` builds the "Add to Google Wallet" link and talks to the Wallet Objects API,
``service`` syncs cards with retries and records the outcome, ``tasks`` holds the Huey tasks
and ``cli`` the ``flask loyalty wallet-check`` command.
"""
