/**
 * The REST API's resources (every path of a route and each of its prefixes, the root included),
 * matched against a request's path as API Gateway matches them: case-sensitive, one segment per
 * `{name}` (at least one character; `%2F` does not split it), a static segment before a
 * parameter, leading and trailing slashes ignored, an empty segment inside the path matching
 * nothing. Parameter values stay percent-encoded, as API Gateway hands them to a proxy integration.
 */
export class ApiResources<R extends { readonly method: string; readonly path: string }> {
  private readonly resources = new Map<string, Map<string, R>>();

  constructor(routes: readonly R[]) {
    this.resources.set('/', new Map());
    for (const route of routes) {
      const segments = route.path.split('/').slice(1);
      for (let i = 1; i <= segments.length; i++) {
        const prefix = `/${segments.slice(0, i).join('/')}`;
        if (!this.resources.has(prefix)) this.resources.set(prefix, new Map());
      }
      this.resources.get(route.path)!.set(route.method, route);
    }
  }

  /** The resource `path` names, its parameters and the routes of its methods; undefined if none. */
  match(path: string):
    | {
        readonly resource: string;
        readonly pathParameters: Readonly<Record<string, string>>;
        readonly methods: ReadonlyMap<string, R>;
      }
    | undefined {
    const segments = resourcePath(path).split('/').slice(1);
    let best: { resource: string; pathParameters: Record<string, string>; rank: string } | undefined;
    for (const resource of this.resources.keys()) {
      const template = resource.split('/').slice(1);
      if (template.length !== segments.length) continue;
      const pathParameters: Record<string, string> = {};
      let rank = '';
      const fits = template.every((part, i) => {
        const name = part.match(/^\{(\w+)\}$/)?.[1];
        rank += name ? '0' : '1';
        if (!name) return part === segments[i];
        pathParameters[name] = segments[i];
        return segments[i] !== '';
      });
      if (fits && (!best || rank > best.rank)) best = { resource, pathParameters, rank };
    }
    return best && { ...best, methods: this.resources.get(best.resource)! };
  }
}

/** The path API Gateway routes by: leading and trailing slashes ignored, the root as `/`. */
export function resourcePath(path: string): string {
  return `/${path.replace(/^\/+/, '').replace(/\/+$/, '')}`;
}

/** The path API Gateway hands to a proxy integration: leading slashes collapsed, the rest as sent. */
export function eventPath(path: string): string {
  return `/${path.replace(/^\/+/, '')}`;
}
