"""The link service: tracked links redirect at once, their clicks are recorded in the background.

It may import `panel/` and `models/`, never `bot/` or `jobs/`.
"""
