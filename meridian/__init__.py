"""What every part of Meridian shares: the infra/runtime contract, logging, tables and statistics."""
