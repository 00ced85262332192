import Histogram

/// HdrHistogram's V2 binary encoding (the payload of interval-log lines), written from the
/// format description: a 40-byte big-endian header (cookie, payload length, normalizing
/// offset, significant digits, lowest, highest, conversion ratio), then the counts array as
/// ZigZag LEB128 numbers where a negative number −n stands for n empty buckets. The compressed
/// form wraps that in a zlib stream (cookie, length, zlib bytes). Our zlib writer emits stored
/// (uncompressed) deflate blocks, which every inflater reads; our reader accepts stored blocks.
public enum HistogramEncoding {
    static let v2Cookie: UInt32 = 0x1c84_9313
    static let v2CompressedCookie: UInt32 = 0x1c84_9314

    /// Bucket layout of a histogram configuration (HdrHistogram's index arithmetic).
    struct Layout {
        let unitMagnitude: Int
        let subBucketHalfCountMagnitude: Int
        let subBucketHalfCount: Int
        let subBucketMask: UInt64
        let leadingZeroCountBase: Int

        init(lowest: UInt64, significantDigits: Int) {
            let largestSingleUnit = 2 * Layout.pow10(significantDigits)
            var magnitude = 0
            while (UInt64(1) << magnitude) < largestSingleUnit { magnitude += 1 }
            subBucketHalfCountMagnitude = max(magnitude, 1) - 1
            unitMagnitude = 63 - max(lowest, 1).leadingZeroBitCount
            subBucketHalfCount = 1 << subBucketHalfCountMagnitude
            subBucketMask = UInt64(2 * subBucketHalfCount - 1) << unitMagnitude
            leadingZeroCountBase = 64 - unitMagnitude - subBucketHalfCountMagnitude - 1
        }

        func index(of value: UInt64) -> Int {
            let bucket = leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
            let subBucket = Int(value >> UInt64(bucket + unitMagnitude))
            return ((bucket + 1) << subBucketHalfCountMagnitude) + subBucket - subBucketHalfCount
        }

        func value(at index: Int) -> UInt64 {
            var bucket = (index >> subBucketHalfCountMagnitude) - 1
            var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
            if bucket < 0 {
                subBucket -= subBucketHalfCount
                bucket = 0
            }
            return UInt64(subBucket) << UInt64(bucket + unitMagnitude)
        }

        static func pow10(_ n: Int) -> UInt64 { (0..<n).reduce(1) { r, _ in r * 10 } }
    }

    /// The uncompressed V2 encoding.
    public static func encode(_ h: LatencyHistogram) -> [UInt8] {
        let layout = Layout(lowest: h.lowestDiscernibleValue, significantDigits: Int(h.numberOfSignificantValueDigits.rawValue))
        var counts: [(Int, UInt64)] = []
        for v in h.recordedValues() { counts.append((layout.index(of: v.value), UInt64(v.count))) }
        var payload: [UInt8] = []
        var next = 0
        for (index, count) in counts {
            let zeros = index - next
            if zeros == 1 { putZigZag(0, into: &payload) } else if zeros > 1 { putZigZag(-Int64(zeros), into: &payload) }
            putZigZag(Int64(count), into: &payload)
            next = index + 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(40 + payload.count)
        put32(v2Cookie, &out)
        put32(UInt32(payload.count), &out)
        put32(0, &out)
        put32(UInt32(h.numberOfSignificantValueDigits.rawValue), &out)
        put64(h.lowestDiscernibleValue, &out)
        put64(h.highestTrackableValue, &out)
        put64((1.0 as Double).bitPattern, &out)
        out += payload
        return out
    }

    /// The compressed V2 encoding (what interval logs base64-encode).
    public static func encodeCompressed(_ h: LatencyHistogram) -> [UInt8] {
        let zlib = ZlibStored.wrap(encode(h))
        var out: [UInt8] = []
        put32(v2CompressedCookie, &out)
        put32(UInt32(zlib.count), &out)
        return out + zlib
    }

    /// Decodes either form.
    public static func decode(_ bytes: [UInt8]) throws(LoadError) -> LatencyHistogram {
        var r = ByteReader(bytes: bytes)
        let cookie = try r.u32()
        if cookie & ~0xf0 == v2CompressedCookie & ~0xf0 {
            let length = Int(try r.u32())
            return try decode(try ZlibStored.unwrap(try r.take(length)))
        }
        guard cookie & ~0xf0 == v2Cookie & ~0xf0 else { throw .badInput("not an HdrHistogram V2 encoding (cookie \(cookie))") }
        let payloadLength = Int(try r.u32())
        _ = try r.u32()
        let digits = Int(try r.u32())
        let lowest = try r.u64()
        let highest = try r.u64()
        _ = try r.u64()
        guard (0...5).contains(digits), lowest >= 1, let sig = SignificantDigits(rawValue: Int8(digits)) else {
            throw .badInput("unsupported histogram parameters")
        }
        var h = LatencyHistogram(lowestDiscernibleValue: lowest, highestTrackableValue: max(highest, 2 * lowest),
                                 numberOfSignificantValueDigits: sig)
        let layout = Layout(lowest: lowest, significantDigits: digits)
        var payload = ByteReader(bytes: try r.take(payloadLength))
        var index = 0
        while !payload.atEnd {
            let n = try payload.zigZag()
            if n < 0 {
                index += Int(-n)
            } else {
                if n > 0 {
                    let value = layout.value(at: index)
                    guard value <= h.highestTrackableValue, h.record(value, count: UInt64(n)) else {
                        throw .badInput("histogram value out of range")
                    }
                }
                index += 1
            }
        }
        return h
    }

    static func putZigZag(_ value: Int64, into out: inout [UInt8]) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        for _ in 0..<8 {
            if v < 0x80 {
                out.append(UInt8(v))
                return
            }
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(truncatingIfNeeded: v))
    }

    static func put32(_ v: UInt32, _ out: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    static func put64(_ v: UInt64, _ out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
}

/// Big-endian reads with bounds checks.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset >= bytes.count }

    mutating func take(_ n: Int) throws(LoadError) -> [UInt8] {
        guard n >= 0, offset + n <= bytes.count else { throw .badInput("truncated histogram encoding") }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func u32() throws(LoadError) -> UInt32 {
        try take(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func u64() throws(LoadError) -> UInt64 {
        try take(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func zigZag() throws(LoadError) -> Int64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try take(1)[0]
            if shift == 56 {
                v |= UInt64(b) << 56
                break
            }
            v |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }
}

/// A zlib stream made of stored deflate blocks (RFC 1950/1951), and its reader.
enum ZlibStored {
    static func wrap(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, data.count - offset)
            let final = offset + n == data.count
            out.append(final ? 1 : 0)
            out += [UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        HistogramEncoding.put32(adler32(data), &out)
        return out
    }

    static func unwrap(_ zlib: [UInt8]) throws(LoadError) -> [UInt8] {
        var r = ByteReader(bytes: zlib)
        let header = try r.take(2)
        guard header[0] & 0x0f == 8, (UInt16(header[0]) << 8 | UInt16(header[1])) % 31 == 0 else { throw .badInput("not a zlib stream") }
        var out: [UInt8] = []
        while true {
            let flags = try r.take(1)[0]
            guard flags & 0x06 == 0 else {
                throw .badInput("compressed deflate blocks are not supported (this reader reads kvbench's own logs)")
            }
            let lengths = try r.take(4)
            let n = Int(lengths[0]) | Int(lengths[1]) << 8
            out += try r.take(n)
            if flags & 1 == 1 { break }
        }
        guard try r.u32() == adler32(out) else { throw .badInput("zlib checksum mismatch") }
        return out
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }
}
