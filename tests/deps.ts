// Lists the npm packages tests use, so `make` caches them before running offline.
import "fast-check";
import "@msgpack/msgpack";
import "@nats-io/transport-node";
