package pinning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// RedisStore keeps pins in Redis, for gateways whose replicas share no
// disk: Pin is SET NX, so exactly one replica's first list becomes the pin.
type RedisStore struct{ c *redis.Client }

// redisPrefix namespaces the keys, so the Redis can be shared.
const redisPrefix = "mcpgate:pin:"

// openRedisStore connects and pings, so a wrong address fails at start
// rather than at the first tools/list.
func openRedisStore(ctx context.Context, url string) (*RedisStore, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("pin store: %w", err)
	}
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("pin store %s: %w", opt.Addr, err)
	}
	return &RedisStore{c: c}, nil
}

// Pin implements [Store.Pin].
func (r *RedisStore) Pin(ctx context.Context, key string, s Set) (Set, bool, error) {
	data, err := marshal(s)
	if err != nil {
		return Set{}, false, fmt.Errorf("pin %s: encode: %w", key, err)
	}
	created, err := r.c.SetNX(ctx, redisPrefix+key, data, 0).Result()
	if err != nil {
		return Set{}, false, fmt.Errorf("pin %s: %w", key, err)
	}
	if created {
		return s, true, nil
	}
	stored, ok, err := r.Get(ctx, key)
	if err != nil {
		return Set{}, false, fmt.Errorf("pin %s: read existing pin: %w", key, err)
	}
	if !ok { // deleted between SET NX and GET
		return Set{}, false, fmt.Errorf("pin %s: existing pin vanished", key)
	}
	return stored, false, nil
}

// Get implements [Store.Get].
func (r *RedisStore) Get(ctx context.Context, key string) (Set, bool, error) {
	data, err := r.c.Get(ctx, redisPrefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return Set{}, false, nil
	}
	if err != nil {
		return Set{}, false, fmt.Errorf("read pin %s: %w", key, err)
	}
	var s Set
	if err := json.Unmarshal(data, &s); err != nil {
		return Set{}, false, fmt.Errorf("read pin %s: %w", key, err)
	}
	return s, true, nil
}

// Replace implements [Store.Replace].
func (r *RedisStore) Replace(ctx context.Context, key string, s Set) error {
	data, err := marshal(s)
	if err != nil {
		return fmt.Errorf("replace pin %s: encode: %w", key, err)
	}
	if err := r.c.Set(ctx, redisPrefix+key, data, 0).Err(); err != nil {
		return fmt.Errorf("replace pin %s: %w", key, err)
	}
	return nil
}

// Close closes the connection pool.
func (r *RedisStore) Close() error { return r.c.Close() }
