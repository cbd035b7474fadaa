package nattarget
