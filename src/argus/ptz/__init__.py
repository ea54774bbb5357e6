"""PTZ control: drivers, arbitration by priority, control leases and the owner's tours."""
