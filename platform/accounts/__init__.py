"""Teams and roles: who may see and change which cases."""
