/** A real S3-compatible server process started for tests and benchmarks. */
export interface S3ServerHandle {
  /** e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** False for servers without object tagging (Swift's s3api): mounts set `tagging: false`. */
  readonly tagging?: boolean;
  /** Which server this is ('moto', 'swift'), for test names. */
  readonly name: string;
  /** Kills every process it started and removes its files. */
  stop(): Promise<void>;
}
