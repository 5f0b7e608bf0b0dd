"""Cases: event dispatch (事件分拨), the case lifecycle, SLAs and quality verification (品质核查)."""
