"""Emergency linkage (应急联动): plans per incident type and level, started by an operator or by a crowd
warning, that give every department its task at once, with acknowledgement deadlines and a shared timeline."""
