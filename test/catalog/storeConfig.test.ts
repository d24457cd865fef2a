import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig, redactUrl } from '../../src/config/env.ts';

describe('DATABASE_URL', () => {
  it('is empty (SQLite) by default and accepts postgres:// and postgresql:// URLs', () => {
    expect(loadConfig({}).DATABASE_URL).toBe('');
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/shop' }).DATABASE_URL).toBe(
      'postgres://u:p@db:5432/shop',
    );
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/shop' }).DATABASE_URL).toBe('postgresql://db/shop');
  });

  it('refuses another scheme, naming the variable', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/shop' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/shop' })).toThrow(
      /DATABASE_URL="mysql:\/\/db\/shop"/,
    );
  });

  it('never logs the password', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://shop:s3cret@db:5432/shop' });
    expect(redactConfig(config).DATABASE_URL).toBe('postgres://shop:***@db:5432/shop');
    expect(redactUrl('postgres://db/shop')).toBe('postgres://db/shop');
    expect(redactUrl('')).toBe('');
  });
});
