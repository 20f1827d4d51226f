package audio

// G.711 expansion tables (ITU-T G.711), built once.
var ulawTable, alawTable = buildG711()

func buildG711() (u, a [256]int16) {
	for i := range 256 {
		u[i] = ulawToLinear(byte(i))
		a[i] = alawToLinear(byte(i))
	}
	return u, a
}

func ulawToLinear(b byte) int16 {
	b = ^b
	t := (int(b&0x0f) << 3) + 0x84
	t <<= (b & 0x70) >> 4
	if b&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func alawToLinear(b byte) int16 {
	b ^= 0x55
	t := int(b&0x0f) << 4
	seg := (b & 0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if b&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
