import KVHash
import Testing

@Suite struct XXH3Tests {
    // Reference values computed by a C program against the same libxxhash 0.8.1.
    @Test func knownValues() {
        #expect(XXH3.hash("hello, dynamo") == 0x4e66_668d_b19a_fa12)
        let bytes = Array("hello, dynamo".utf8)
        #expect(bytes.withUnsafeBytes { XXH64.hash($0) } == 0x3aef_99a2_04e2_5bc7)
    }

    @Test func collectionsAgreeWithRawBytes() {
        let bytes: [UInt8] = Array(0..<200).map { UInt8($0 & 0xff) }
        let raw = bytes.withUnsafeBytes { XXH3.hash($0) }
        #expect(XXH3.hash(bytes) == raw)
        #expect(XXH3.hash(bytes[...]) == raw)
        #expect(XXH3.hash(bytes, seed: 7) != raw)
    }

    @Test func streamingMatchesOneShot() {
        let bytes: [UInt8] = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var stream = XXH3Stream()
        bytes.withUnsafeBytes { all in
            stream.update(UnsafeRawBufferPointer(rebasing: all[0..<123]))
            stream.update(UnsafeRawBufferPointer(rebasing: all[123...]))
        }
        #expect(stream.digest() == XXH3.hash(bytes))
    }

    @Test func libraryVersion() {
        #expect(XXH3.libraryVersion >= 800)
    }
}
