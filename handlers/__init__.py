"""The domain: what happens when a contact is added, a group changes, a code is scanned.
No HTTP here; the WeCom client comes in as an argument."""
