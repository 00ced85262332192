import Glibc
import KVCluster
import KVVersioning
import Testing

/// The seed corpus of Fuzz/PeerFuzz: real encodings of every message kind, stored object, hint,
/// sibling set and context. Each seed is `[mode][record without its checksum]` (the fuzz target
/// appends a valid checksum; see Fuzz/Sources/PeerFuzz), plus a few whole records with mode bit 7.
/// Regenerate with `KVBENCH_WRITE_FUZZ_SEEDS=1 swift test --skip-build --filter PeerFuzzSeeds`.
@Suite struct PeerFuzzSeeds {
    static func seeds() -> [(name: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = []
        func add(_ name: String, mode: UInt8, _ record: [UInt8]) {
            out.append((name + "-sealed", [mode] + record.dropLast(4)))
            out.append((name + "-raw", [mode | 0x80] + record))
        }
        for (i, m) in ClusterCodingTests.messages.enumerated() { add("message\(i)", mode: 0, ClusterCoding.encode(m)) }
        let object = StoredObject(siblings: ClusterCodingTests.set, stampEpoch: 3, recentStamps: [
            .init(origin: StampOrigin(coordinator: "n0", request: 77), dot: Dot(actor: Actor(node: "n1", epoch: 3), counter: 1)),
        ])
        add("stored-object", mode: 1, ClusterCoding.encode(object))
        add("hint", mode: 2, ClusterCoding.encode(Hint(owner: "n3", key: Array("key".utf8), sequence: 5, createdAt: 1234)))
        add("sibling-set", mode: 3, SiblingSetCoding.encode(ClusterCodingTests.set))
        add("context", mode: 4, CausalContextCoding.encode(ClusterCodingTests.set.context))
        return out
    }

    @Test func everySeedDecodesOnTheTargetsPath() throws {
        for (name, seed) in Self.seeds() {
            let mode = seed[0]
            var record = Array(seed.dropFirst())
            if mode & 0x80 == 0 {
                var writer = VarintWriter()
                for b in record { writer.byte(b) }
                record = writer.finish()
            }
            switch mode & 7 {
            case 0: #expect(throws: Never.self, "\(name)") { _ = try ClusterCoding.decodePeerMessage(record) }
            case 1: #expect(throws: Never.self, "\(name)") { _ = try ClusterCoding.decodeStoredObject(record) }
            case 2: #expect(throws: Never.self, "\(name)") { _ = try ClusterCoding.decodeHint(record) }
            case 3: #expect(throws: Never.self, "\(name)") { _ = try SiblingSetCoding.decode(record) }
            default: #expect(throws: Never.self, "\(name)") { _ = try CausalContextCoding.decode(record) }
            }
        }
        if getenv("KVBENCH_WRITE_FUZZ_SEEDS") != nil { try writeSeeds(Self.seeds(), target: "PeerFuzz") }
    }
}

/// Writes seeds to Fuzz/corpus/<target>/ in the repository this file belongs to.
func writeSeeds(_ seeds: [(name: String, bytes: [UInt8])], target: String, file: String = #filePath) throws {
    let root = file.split(separator: "/").dropLast(3).joined(separator: "/")
    let dir = "/" + root + "/Fuzz/corpus/" + target
    _ = mkdir("/" + root + "/Fuzz/corpus", 0o755)
    _ = mkdir(dir, 0o755)
    for (name, bytes) in seeds {
        let f = try #require(fopen(dir + "/seed-" + name, "wb"))
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}
