import type { IncomingHttpHeaders } from 'node:http';
import { context, propagation, ProxyTracerProvider, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { isDoraError } from '../common/errors.js';
import { followRequests } from './request-context.js';

export { SpanKind, type Span };

export interface TracingSettings {
  readonly exporter: 'none' | 'otlp';
  readonly endpoint: string;
  readonly samplePercent: number;
}

/** Whether this dora process records spans: checked first on hot paths, so tracing off costs nothing. */
let enabled = false;
/** Set once a dora server process has decided from its configuration (startTracing); until then this is an application's SDK. */
let serverProcess = false;
let provider: NodeTracerProvider | undefined;

/** Whether a dora server records spans (the spans and context it serves requests in). */
export function tracingEnabled(): boolean {
  return enabled;
}

/**
 * Whether the calls this process makes are traced: a dora server's own setting, or, in an
 * application using the SDK, whether the application registered an OpenTelemetry tracer provider
 * (so `dora.read`/`dora.write` spans join its traces and `traceparent` goes to the workers with
 * no dora setting). Asked per call, so a provider registered after the client was made counts.
 */
export function callsTraced(): boolean {
  if (enabled || serverProcess) return enabled;
  const global = trace.getTracerProvider();
  return !(global instanceof ProxyTracerProvider) || global.getDelegateTracer('dora') !== undefined;
}

/**
 * Turns tracing on for this process (once, at start): spans of `service` go to the OTLP exporter
 * the settings name, or to `processors` (tests). With exporter `none` and no processors it does
 * nothing. Trace context travels in W3C `traceparent` headers.
 */
export function startTracing(service: string, settings: TracingSettings, processors: readonly SpanProcessor[] = []): void {
  serverProcess = true;
  const all = [...processors];
  if (settings.exporter === 'otlp') all.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.endpoint })));
  if (all.length === 0 || provider !== undefined) return;
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.samplePercent / 100) }),
    spanProcessors: all,
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  followRequests(true);
  enabled = true;
}

/** Sends the spans still buffered and stops tracing (before the process exits). */
export async function stopTracing(): Promise<void> {
  const stopping = provider;
  provider = undefined;
  enabled = false;
  await stopping?.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

const tracer = () => trace.getTracer('dora');

/**
 * Runs `fn` in a new span (a child of the active one, or of `parent`), ended when `fn` settles;
 * a failure is recorded with its error code. Without tracing, just runs `fn`.
 */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span | undefined) => Promise<T>, options: { kind?: SpanKind; parent?: Context } = {}): Promise<T> {
  if (!callsTraced()) return fn(undefined);
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes }, options.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A span the caller ends (one that outlives a call: a read until its last byte); undefined without tracing. */
export function startSpan(name: string, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span | undefined {
  return callsTraced() ? tracer().startSpan(name, { kind, attributes }) : undefined;
}

/** Adds `attributes` to the span the running code is in (a server's request span); nothing without tracing. */
export function noteSpan(attributes: Attributes): void {
  if (enabled) trace.getActiveSpan()?.setAttributes(attributes);
}

/** Runs `fn` with `span` as the active span (so calls it makes are its children). */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  return span === undefined ? fn() : context.with(trace.setSpan(context.active(), span), fn);
}

/** Marks `span` failed with `error`'s code and message. */
export function failSpan(span: Span | undefined, error: unknown): void {
  if (span === undefined) return;
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  if (isDoraError(error)) span.setAttribute('dora.error.code', error.code);
}

/** Adds the active trace context (`traceparent`) to outgoing request headers. */
export function injectTraceContext(headers: Record<string, string>): void {
  if (callsTraced()) propagation.inject(context.active(), headers);
}

/** The trace context an incoming request carries (`traceparent` from a dora client, an S3 client, a proxy). */
export function extractTraceContext(headers: IncomingHttpHeaders): Context {
  return enabled ? propagation.extract(ROOT_CONTEXT, headers) : ROOT_CONTEXT;
}
