"""Region-tagged dispatch: a LiveKit standard token endpoint that picks the nearest healthy region."""
