import Glibc
import KVCluster
import KVClusterShell
import KVStorage
import KVVersioning
import Logging
import Testing

/// The cluster's store on the storage engine: its decoded-object cache never disagrees with the log.
@Suite struct StorageLocalStoreTests {
    private static func tempDirectory() -> String {
        var template = Array("/tmp/kvstore-test.XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: p!)
    }

    private static func object(_ text: String, epoch: UInt32) -> StoredObject {
        var set = SiblingSet()
        set.update(clientContext: VersionVector(), actor: Actor(node: "n1", epoch: epoch), value: Array(text.utf8),
                   timestamp: UInt64(epoch))
        return StoredObject(siblings: set, stampEpoch: epoch,
                            recentStamps: [.init(origin: StampOrigin(coordinator: "n2", request: UInt64(epoch)),
                                                 dot: Dot(actor: Actor(node: "n1", epoch: epoch), counter: 1))])
    }

    @Test func hotObjectsStayBoundedAndEqualWhatTheLogHolds() throws {
        let dir = Self.tempDirectory()
        defer { _ = system("rm -rf '\(dir)'") }
        let engine = try StorageEngine(configuration: StorageConfiguration(directory: dir), logger: Logger(label: "test"))
        let store = StorageLocalStore(engine: engine, logger: Logger(label: "test"), hotObjectCapacity: 4)
        let keys = (0..<20).map { Array("key\($0)".utf8) }
        for (i, key) in keys.enumerated() { store.setObject(Self.object("v\(i)", epoch: UInt32(i + 1)), for: key) }
        #expect(store.hotObjectCount == 0)  // writes alone admit nothing
        // Each key read twice in a row: the second miss admits it, and the cache stays at 4.
        for key in keys { _ = store.object(for: key); _ = store.object(for: key) }
        #expect(store.hotObjectCount == 4)
        #expect(store.hotHits == 0)
        // Rewrite a cached key: the cache must serve the newest version, not the one it kept.
        store.setObject(Self.object("newer", epoch: 99), for: keys[19])
        #expect(store.object(for: keys[19]) == Self.object("newer", epoch: 99))
        #expect(store.hotHits == 1)  // served from memory

        let cold = StorageLocalStore(engine: engine, logger: Logger(label: "test"), hotObjectCapacity: 0)
        for (i, key) in keys.enumerated() {
            let expected = i == 19 ? Self.object("newer", epoch: 99) : Self.object("v\(i)", epoch: UInt32(i + 1))
            #expect(store.object(for: key) == expected)
            #expect(cold.object(for: key) == expected)  // decoded from the log, no cache
        }
        #expect(store.hotObjectCount <= 4)
        #expect(cold.hotHits == 0 && cold.hotObjectCount == 0)

        store.removeObject(for: keys[19])
        #expect(store.object(for: keys[19]) == nil)
        try engine.close()
    }

    @Test func aKeyReadOnceAmongManyIsNotCachedButAHotKeyIs() throws {
        let dir = Self.tempDirectory()
        defer { _ = system("rm -rf '\(dir)'") }
        let engine = try StorageEngine(configuration: StorageConfiguration(directory: dir), logger: Logger(label: "test"))
        let store = StorageLocalStore(engine: engine, logger: Logger(label: "test"), hotObjectCapacity: 64)
        let hot = Array("celebrity".utf8)
        store.setObject(Self.object("hot", epoch: 1), for: hot)
        let keys = (0..<5000).map { Array("user\($0)".utf8) }
        for key in keys { store.setObject(Self.object("cold", epoch: 2), for: key) }
        for (i, key) in keys.enumerated() {
            #expect(store.object(for: key) == Self.object("cold", epoch: 2))
            if i % 10 == 0 { _ = store.object(for: hot) }
        }
        // Every cold key was read once: none needs a slot (at most a few admitted by a hash collision
        // in the admission filter); the hot key is admitted at its second read and then always hit.
        #expect(store.hotObjectCount <= 3)
        #expect(store.hotHits == 498)  // 500 reads: the first two miss (seen, then admitted)
        #expect(store.object(for: hot) == Self.object("hot", epoch: 1))
        try engine.close()
    }

    @Test func aRefusedWriteLeavesTheCacheAgreeingWithTheLog() throws {
        let dir = Self.tempDirectory()
        defer { _ = system("rm -rf '\(dir)'") }
        let engine = try StorageEngine(configuration: StorageConfiguration(directory: dir), logger: Logger(label: "test"))
        let store = StorageLocalStore(engine: engine, logger: Logger(label: "test"))
        let key = Array("k".utf8)
        let first = Self.object("first", epoch: 1)
        store.setObject(first, for: key)
        #expect(store.takeFailure() == nil)
        try engine.close()  // later writes throw; reads still see what the engine holds
        store.setObject(Self.object("refused", epoch: 2), for: key)
        #expect(store.takeFailure() != nil)
        #expect(store.object(for: key) == first)
    }
}
