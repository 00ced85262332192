import Testing
@testable import KVWorkload

@Suite("YCSB key naming")
struct KeyNamingTests {
    /// FNV-1a 64 over the 8 little-endian bytes, written independently of the module's loop.
    static func fnvByHand(_ keynum: Int64) -> Int64 {
        var bytes: [UInt8] = []
        for i in 0..<8 { bytes.append(UInt8((UInt64(bitPattern: keynum) >> (8 * UInt64(i))) & 0xFF)) }
        var h: UInt64 = 14_695_981_039_346_656_037  // 0xCBF29CE484222325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 1_099_511_628_211
        }
        let s = Int64(bitPattern: h)
        return s == .min ? s : abs(s)
    }

    @Test("hashed keys equal YCSB's for known keynums")
    func hashedKeys() {
        let namer = KeyNamer()
        // Values computed by hand (Python, FNV-1a 64, Java Math.abs) — YCSB's first key is user6284781860667377211.
        let known: [(Int64, String)] = [
            (0, "user6284781860667377211"), (1, "user8517097267634966620"), (2, "user1820151046732198393"),
            (42, "user55488592825689361"), (999, "user2071219101098386137"), (1_000_000, "user1011632231655643464"),
        ]
        for (keynum, key) in known {
            #expect(namer.key(keynum) == key)
            #expect(YCSBHash.fnv64(keynum) == Self.fnvByHand(keynum))
        }
        for keynum in stride(from: Int64(0), to: 100_000, by: 997) {
            #expect(namer.key(keynum) == "user\(Self.fnvByHand(keynum))")
        }
    }

    @Test("ordered keys, zero padding and prefix")
    func orderedKeys() {
        #expect(KeyNamer(hashed: false).key(42) == "user42")
        #expect(KeyNamer(hashed: false, zeroPadding: 8).key(42) == "user00000042")
        #expect(KeyNamer(prefix: "k:", hashed: false, zeroPadding: 3).key(12345) == "k:12345")
        #expect(KeyNamer(hashed: true, zeroPadding: 20).key(42) == "user00055488592825689361")
        #expect(KeyNamer(hashed: false).key(0) == "user0")
    }

    @Test("write(keyNumber:into:) returns the length and matches key()")
    func writeIntoBuffer() {
        let namer = KeyNamer(zeroPadding: 5)
        var buffer = [UInt8](repeating: 0, count: namer.maximumLength)
        for keynum: Int64 in [0, 7, 123_456_789, .max] {
            let n = buffer.withUnsafeMutableBytes { namer.write(keyNumber: keynum, into: $0) }
            #expect(String(decoding: buffer[0..<n], as: UTF8.self) == namer.key(keynum))
        }
    }
}

@Suite("Decimal key digits")
struct KeyDigitTests {
    /// Every power of ten, its neighbours, and a seeded spread of values print as Swift's own `String(v)`:
    /// checks the loop-free digit count and the four-digit writer at every length from 1 to 19 digits.
    @Test func numbersPrintAsDecimal() {
        var values: [Int64] = [0, 1, 9, 10, 11, 99, 100, 101, Int64.max, Int64.max - 1]
        var p: Int64 = 1
        for _ in 0..<18 {
            p *= 10
            values += [p - 1, p, p + 1, p * 2 - 1]
        }
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<10_000 {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            values.append(Int64(bitPattern: x >> (x % 63)) & .max)
        }
        let namer = KeyNamer(prefix: "", hashed: false)
        for v in values {
            #expect(namer.key(v) == String(v), "\(v)")
            #expect(KeyNamer.decimalDigitCount(UInt64(v)) == String(v).count, "\(v)")
        }
        for v in [UInt64.max, 10_000_000_000_000_000_000, 9_999_999_999_999_999_999] {
            #expect(KeyNamer.decimalDigitCount(v) == String(v).count, "\(v)")
        }
        #expect(KeyNamer(prefix: "", hashed: false).key(-12_345) == "-12345")
    }

    /// The eight-digit lane conversion against `String`: every value of each 4-digit lane with the other lane
    /// fixed, and a seeded spread of whole values.
    @Test func eightDigitGroups() {
        func ascii(_ word: UInt64) -> String {
            withUnsafeBytes(of: word.littleEndian) { String(decoding: $0, as: UTF8.self) }
        }
        func padded(_ x: UInt64) -> String {
            let s = String(x)
            return String(repeating: "0", count: 8 - s.count) + s
        }
        for lane in UInt64(0)..<10_000 {
            for other: UInt64 in [0, 1, 4_999, 9_999] {
                for x in [lane * 10_000 + other, other * 10_000 + lane] {
                    #expect(ascii(KeyNamer.eightDigits(x)) == padded(x), "\(x)")
                }
            }
        }
        var r: UInt64 = 0x2545_F491_4F6C_DD1D
        for _ in 0..<100_000 {
            r ^= r << 13; r ^= r >> 7; r ^= r << 17
            let x = r % 100_000_000
            #expect(ascii(KeyNamer.eightDigits(x)) == padded(x), "\(x)")
        }
    }

    /// The digits land exactly in their bytes: the bytes after a key are not touched, at every length and
    /// with padding that leaves little room.
    @Test func digitsStayInsideTheKey() {
        var p: UInt64 = 1
        var values: [UInt64] = [0]
        for _ in 0..<19 {
            values += [p, p * 9 + (p - 1) / 9 * 8]  // 10^k and 99…9 (k + 1 nines)
            p *= 10
        }
        values.append(UInt64.max)
        for v in values {
            let digits = KeyNamer.decimalDigitCount(v)
            var bytes = [UInt8](repeating: 0xEE, count: digits + 8)
            bytes.withUnsafeMutableBytes { KeyNamer.storeDigits(v, count: digits, at: $0.baseAddress!) }
            #expect(String(decoding: bytes[0..<digits], as: UTF8.self) == String(v), "\(v)")
            #expect(bytes[digits...].allSatisfy { $0 == 0xEE }, "bytes after \(v) overwritten")
        }
        let namer = KeyNamer(prefix: "", hashed: false, zeroPadding: 30)
        var buffer = [UInt8](repeating: 0xEE, count: namer.maximumLength + 8)
        let n = buffer.withUnsafeMutableBytes { namer.write(keyNumber: 123, into: $0) }
        #expect(n == 30 && String(decoding: buffer[0..<n], as: UTF8.self) == String(repeating: "0", count: 27) + "123")
        #expect(buffer[n...].allSatisfy { $0 == 0xEE })
    }
}
