"""The sending engine: the lean Bot API client, token pacing, claiming and recording deliveries."""
