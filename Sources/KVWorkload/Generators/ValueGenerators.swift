/// Field values. `.ycsb` mirrors YCSB's `RandomByteIterator`: printable bytes (from ' '),
/// six per 32-bit draw with YCSB's masks, generated afresh per field. `.pool` is the fast mode:
/// a value is a slice of a pre-generated random pool at a random offset, so producing one
/// costs one draw and no allocation.
public enum ValueMode: String, Sendable, CaseIterable {
    case ycsb
    case pool
}

/// Fills buffers with YCSB-style printable random bytes.
public struct YCSBValueGenerator: Sendable {
    @usableFromInline var random: WorkloadRandom

    public init(random: WorkloadRandom) { self.random = random }

    /// Fills every byte of `buffer`.
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var base = 0
        while base < buffer.count {
            let bits = UInt32(truncatingIfNeeded: random.next() >> 32)
            let remaining = buffer.count - base
            // Same byte layout as YCSB's fall-through switch (masks 31, 63, 95, 31, 63, 95).
            if remaining >= 6 { buffer[base + 5] = UInt8((bits >> 25) & 95) + 32 }
            if remaining >= 5 { buffer[base + 4] = UInt8((bits >> 20) & 63) + 32 }
            if remaining >= 4 { buffer[base + 3] = UInt8((bits >> 15) & 31) + 32 }
            if remaining >= 3 { buffer[base + 2] = UInt8((bits >> 10) & 95) + 32 }
            if remaining >= 2 { buffer[base + 1] = UInt8((bits >> 5) & 63) + 32 }
            buffer[base] = UInt8(bits & 31) + 32
            base += 6
        }
    }
}

/// A read-only pool of printable random bytes shared by all threads; values are slices of it.
public final class ValuePool: Sendable {
    /// Bytes a value may start at (the pool holds `startRange + maxValueLength` bytes).
    public let startRange: Int
    public let maxValueLength: Int
    @usableFromInline nonisolated(unsafe) let storage: UnsafeMutableRawBufferPointer

    /// Start offsets a value may have by default: 64 KiB, so 65,536 distinct values of each length. The
    /// pool then stays in the generator core's L2 cache: with 1 MiB, copying a 100-byte value from a random
    /// offset missed the cache on most operations, about 0.12 µs of client CPU per SET. Values share
    /// substrings within that window, so a store that compresses across values sees them as more
    /// compressible than fresh random bytes; `valuemode=ycsb` generates every value afresh.
    public static let defaultStartRange = 1 << 16

    /// A pool for values up to `maxValueLength` bytes, filled deterministically from `seed`.
    public init(maxValueLength: Int, startRange: Int = ValuePool.defaultStartRange, seed: UInt64) {
        self.startRange = max(startRange, 1)
        self.maxValueLength = max(maxValueLength, 0)
        storage = .allocate(byteCount: self.startRange + self.maxValueLength, alignment: 16)
        var generator = YCSBValueGenerator(random: WorkloadRandom(seed: seed, stream: 0x5641_4C55))
        generator.fill(storage)
    }

    deinit { storage.deallocate() }

    /// The bytes of a value (valid while the pool lives).
    @inlinable @inline(__always)
    public func bytes(_ value: FieldValue) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[value.offset..<(value.offset + value.length)])
    }
}

/// A value as an (offset, length) slice of a `ValuePool`.
public struct FieldValue: Sendable, Equatable {
    public var offset: Int
    public var length: Int

    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }
}

/// `fieldlengthdistribution`: constant `fieldlength`, uniform in [minfieldlength, fieldlength],
/// or zipfian over that range (shorter lengths more common, θ = 0.99 as YCSB).
public struct FieldLengthGenerator: Sendable {
    /// The length law.
    public enum Distribution: String, Sendable, CaseIterable {
        case constant, uniform, zipfian
    }

    public let distribution: Distribution
    public let minimum: Int
    public let maximum: Int
    @usableFromInline var uniform: UniformGenerator
    @usableFromInline var zipfian: ZipfianGenerator
    @usableFromInline var gray: GrayZipfianGenerator?

    public init(distribution: Distribution, minimum: Int, maximum: Int, ycsbMode: Bool, random: WorkloadRandom) {
        precondition(maximum >= minimum && minimum >= 0)
        self.distribution = distribution
        self.minimum = minimum
        self.maximum = maximum
        uniform = UniformGenerator(lower: Int64(minimum), upper: Int64(maximum), random: random)
        zipfian = ZipfianGenerator(itemCount: Int64(maximum - minimum + 1), theta: GrayZipfianGenerator.ycsbConstant, random: random)
        gray = ycsbMode && distribution == .zipfian
            ? GrayZipfianGenerator(min: Int64(minimum), max: Int64(maximum), random: random) : nil
    }

    @inlinable
    public mutating func next() -> Int {
        switch distribution {
        case .constant: return maximum
        case .uniform: return Int(uniform.next())
        case .zipfian:
            if gray != nil { return Int(gray!.next()) }
            return minimum + Int(zipfian.next())
        }
    }
}
