"""The operators' admin API (`/admin/api/`): channels, tags, funnels, failed events."""
