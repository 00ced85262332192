/// YCSB's `Utils.fnvhash64`: 64-bit FNV-1a over the 8 little-endian bytes of a keynum, then
/// Java's `Math.abs` (which leaves `Long.MIN_VALUE` negative). Used for hashed key names and for
/// YCSB's scrambled zipfian, so our keys and scrambling match YCSB's bit for bit.
public enum YCSBHash {
    public static let fnvOffsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    public static let fnvPrime: UInt64 = 1_099_511_628_211

    @inlinable
    public static func fnv64(_ value: Int64) -> Int64 {
        var v = UInt64(bitPattern: value)
        var hash = fnvOffsetBasis
        for _ in 0..<8 {
            hash ^= v & 0xFF
            hash = hash &* fnvPrime
            v >>= 8
        }
        let signed = Int64(bitPattern: hash)
        return signed < 0 ? 0 &- signed : signed  // Math.abs: MIN_VALUE stays MIN_VALUE
    }
}
