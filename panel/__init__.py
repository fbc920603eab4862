"""The shared domain of Broadcast Panel: settings, database sessions, campaign lifecycle, queues.

Both the control bot (`bot/`) and the workers (`jobs/`) build on this package; it imports
neither of them.
"""
