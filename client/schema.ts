export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process is up and serving HTTP */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The process is up. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "ok";
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: model and index are loaded (503 until then) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Readiness; 503 with status `not_ready` while loading. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            status: "ready" | "not_ready";
                            model: string | null;
                            index_size: number | null;
                            /** @description What start-up is doing, while not ready. */
                            reason?: string;
                        };
                    };
                };
                /** @description Readiness; 503 with status `not_ready` while loading. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            status: "ready" | "not_ready";
                            model: string | null;
                            index_size: number | null;
                            /** @description What start-up is doing, while not ready. */
                            reason?: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics (text exposition format) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Prometheus text format */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/similar": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Find the catalog items most similar to an image
         * @description Upload a PNG, JPEG or WebP image (raw body or multipart field `image`). Photos of a dark garment on a light background are inverted, trimmed and fitted to 28x28 as in Fashion-MNIST. Images larger than BODY_LIMIT_BYTES or IMAGE_MAX_PIXELS are refused (413) before decoding.
         */
        post: {
            parameters: {
                query?: {
                    /** @description Number of results (1..100). */
                    k?: number;
                    /** @description Keep only these categories: repeat the parameter (`category=Sneaker&category=Sandal`) or separate with commas. Unknown categories get 400. */
                    category?: string[];
                    /** @description A filter as JSON text. Attribute and category conditions, AND-ed: `{"brand": "Acme", "price": {"lt": 80}, "in_stock": true, "category": {"in": ["Sneaker", "Sandal"]}}`. Operators: equality (a bare value), `in`, `nin`, `gt`, `gte`, `lt`, `lte`, `exists`, `any` (arrays). Category names match case-insensitively; Fashion-MNIST label numbers (`"3"`) are accepted. */
                    filter?: string;
                    /** @description Results skipped: `offset=10&k=10` is the 11th to 20th result of `k=20`. */
                    offset?: number;
                    /** @description Only results at most this far (fewer than k then). */
                    max_distance?: number;
                    /** @description Maximal marginal relevance λ: 0 = plain ranking, 1 = most diverse. With D = twice the largest query distance among the candidates, each next result maximises (1−λ)·(1 − d(q,c)/D) − λ·max over chosen s of (1 − d(c,s)/D). */
                    diversity?: number;
                    /** @description An attribute (or `category`): at most `group_size` results per value. */
                    group_by?: string;
                    /** @description Results per `group_by` value (default 1). */
                    group_size?: number;
                    /** @description `query` adds the model input (the 28x28 image the photo became) and its place on the embedding map (`GET /map`) to the response. */
                    include?: "query";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "multipart/form-data": {
                        /** Format: binary */
                        image: string;
                    };
                    "image/png": string;
                    "image/jpeg": string;
                    "image/webp": string;
                };
            };
            responses: {
                /** @description The nearest catalog items, optionally with what the model saw. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Version of the model that embedded the query and the catalog. */
                            model: string;
                            /** @description Nearest first (with `diversity`, in selection order). */
                            results: {
                                /** @description External item id, e.g. `fmnist-test-00042`. */
                                id: string;
                                title: string;
                                category: string;
                                /** @description Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`. */
                                attributes: {
                                    [key: string]: string | number | boolean | string[];
                                };
                                /** @description Euclidean distance between embeddings (smaller is more similar). */
                                distance: number;
                                /** @description `best_score` recommendations only: the score results are ranked by. */
                                score?: number;
                                image_url: string;
                            }[];
                            /** @description With `ignore_missing`: the example ids that were not found. */
                            missing?: string[];
                            /** @description Server-side time of the request, in milliseconds. */
                            took_ms: number;
                            query?: {
                                /** @description The 28x28 model input as a `data:image/png;base64,` URL. */
                                image: string;
                                /** @description Where the query falls on the embedding map; null while the map is being computed. */
                                map: {
                                    x: number;
                                    y: number;
                                } | null;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/items": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List catalog items, oldest first, with a stable cursor */
        get: {
            parameters: {
                query?: {
                    /** @description Only this category. */
                    category?: string;
                    /** @description A filter as JSON text. Attribute and category conditions, AND-ed: `{"brand": "Acme", "price": {"lt": 80}, "in_stock": true, "category": {"in": ["Sneaker", "Sandal"]}}`. Operators: equality (a bare value), `in`, `nin`, `gt`, `gte`, `lt`, `lte`, `exists`, `any` (arrays). Category names match case-insensitively; Fashion-MNIST label numbers (`"3"`) are accepted. */
                    filter?: string;
                    /** @description Page size (1..1000). */
                    limit?: number;
                    /** @description Opaque cursor from `next_cursor`. */
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of catalog items. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                /** @description External item id, e.g. `fmnist-test-00042`. */
                                id: string;
                                title: string;
                                category: string;
                                /** @description `fashion-mnist`, `folder` or `api`. */
                                source: string;
                                /** @description Fashion-MNIST split, else null. */
                                split: string | null;
                                /** @description Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`. */
                                attributes: {
                                    [key: string]: string | number | boolean | string[];
                                };
                                /** @description Path of the item image (28x28 PNG). */
                                image_url: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                updated_at: string;
                            }[];
                            /** @description Pass as `cursor` for the next page; null on the last page. */
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /** Add an item (admin): embedded and searchable at once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "multipart/form-data": {
                        /** Format: binary */
                        image: string;
                        id?: string;
                        title: string;
                        category: string;
                        /** @description Attributes as a JSON object, e.g. `{"brand":"Acme","price":49.9}`. */
                        attributes?: string;
                    };
                };
            };
            responses: {
                /** @description A catalog item. */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description External item id, e.g. `fmnist-test-00042`. */
                            id: string;
                            title: string;
                            category: string;
                            /** @description `fashion-mnist`, `folder` or `api`. */
                            source: string;
                            /** @description Fashion-MNIST split, else null. */
                            split: string | null;
                            /** @description Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`. */
                            attributes: {
                                [key: string]: string | number | boolean | string[];
                            };
                            /** @description Path of the item image (28x28 PNG). */
                            image_url: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/items/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One catalog item */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description External item id, e.g. `fmnist-test-00042`. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A catalog item. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description External item id, e.g. `fmnist-test-00042`. */
                            id: string;
                            title: string;
                            category: string;
                            /** @description `fashion-mnist`, `folder` or `api`. */
                            source: string;
                            /** @description Fashion-MNIST split, else null. */
                            split: string | null;
                            /** @description Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`. */
                            attributes: {
                                [key: string]: string | number | boolean | string[];
                            };
                            /** @description Path of the item image (28x28 PNG). */
                            image_url: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Delete an item (admin): gone from search at once */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description External item id, e.g. `fmnist-test-00042`. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Change an item's title, category or attributes (admin), without re-embedding */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description External item id, e.g. `fmnist-test-00042`. */
                    id: string;
                };
                cookie?: never;
            };
            /** @description Any of title, category and attributes (which replace all attributes). The image stays. */
            requestBody: {
                content: {
                    "application/json": {
                        title?: string;
                        category?: string;
                        /** @description Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`. */
                        attributes?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            responses: {
                /** @description A catalog item. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description External item id, e.g. `fmnist-test-00042`. */
                            id: string;
                            title: string;
                            category: string;
                            /** @description `fashion-mnist`, `folder` or `api`. */
                            source: string;
                            /** @description Fashion-MNIST split, else null. */
                            split: string | null;
                            /** @description Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`. */
                            attributes: {
                                [key: string]: string | number | boolean | string[];
                            };
                            /** @description Path of the item image (28x28 PNG). */
                            image_url: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        trace?: never;
    };
    "/items/{id}/image": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The item's 28x28 grayscale PNG (what the model sees) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description External item id, e.g. `fmnist-test-00042`. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description PNG image */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "image/png": string;
                    };
                };
                /** @description Not modified (If-None-Match matched the ETag) */
                304: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "image/png": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "image/png": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "image/png": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/items/{id}/recommendations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The k catalog items most similar to an item (never the item itself) */
        get: {
            parameters: {
                query?: {
                    /** @description Number of results (1..100). */
                    k?: number;
                    /** @description Keep only these categories: repeat the parameter (`category=Sneaker&category=Sandal`) or separate with commas. Unknown categories get 400. */
                    category?: string[];
                    /** @description A filter as JSON text. Attribute and category conditions, AND-ed: `{"brand": "Acme", "price": {"lt": 80}, "in_stock": true, "category": {"in": ["Sneaker", "Sandal"]}}`. Operators: equality (a bare value), `in`, `nin`, `gt`, `gte`, `lt`, `lte`, `exists`, `any` (arrays). Category names match case-insensitively; Fashion-MNIST label numbers (`"3"`) are accepted. */
                    filter?: string;
                    /** @description Results skipped: `offset=10&k=10` is the 11th to 20th result of `k=20`. */
                    offset?: number;
                    /** @description Only results at most this far (fewer than k then). */
                    max_distance?: number;
                    /** @description Maximal marginal relevance λ: 0 = plain ranking, 1 = most diverse. With D = twice the largest query distance among the candidates, each next result maximises (1−λ)·(1 − d(q,c)/D) − λ·max over chosen s of (1 − d(c,s)/D). */
                    diversity?: number;
                    /** @description An attribute (or `category`): at most `group_size` results per value. */
                    group_by?: string;
                    /** @description Results per `group_by` value (default 1). */
                    group_size?: number;
                };
                header?: never;
                path: {
                    /** @description External item id, e.g. `fmnist-test-00042`. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The nearest catalog items. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Version of the model that embedded the query and the catalog. */
                            model: string;
                            /** @description Nearest first (with `diversity`, in selection order). */
                            results: {
                                /** @description External item id, e.g. `fmnist-test-00042`. */
                                id: string;
                                title: string;
                                category: string;
                                /** @description Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`. */
                                attributes: {
                                    [key: string]: string | number | boolean | string[];
                                };
                                /** @description Euclidean distance between embeddings (smaller is more similar). */
                                distance: number;
                                /** @description `best_score` recommendations only: the score results are ranked by. */
                                score?: number;
                                image_url: string;
                            }[];
                            /** @description With `ignore_missing`: the example ids that were not found. */
                            missing?: string[];
                            /** @description Server-side time of the request, in milliseconds. */
                            took_ms: number;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/recommendations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Items like the positive examples and unlike the negative ones
         * @description The query vector is q = p + 0.5·(p − n), with p and n the centroids of the positive and negative items' embeddings (q = p without negatives): it starts at what the positives share and moves directly away from the negatives. Results are the k items nearest to q; the input items are never returned. `distance` is the distance to q.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Items the results should look like. */
                        positive: string[];
                        /**
                         * @description Items the results should not look like.
                         * @default []
                         */
                        negative?: string[];
                        /**
                         * @description Number of results (1..100).
                         * @default 10
                         */
                        k?: number;
                        /** @description Keep only these categories: repeat the parameter (`category=Sneaker&category=Sandal`) or separate with commas. Unknown categories get 400. */
                        category?: string[];
                        /** @description Attribute and category conditions, AND-ed: `{"brand": "Acme", "price": {"lt": 80}, "in_stock": true, "category": {"in": ["Sneaker", "Sandal"]}}`. Operators: equality (a bare value), `in`, `nin`, `gt`, `gte`, `lt`, `lte`, `exists`, `any` (arrays). Category names match case-insensitively; Fashion-MNIST label numbers (`"3"`) are accepted. */
                        filter?: {
                            [key: string]: unknown;
                        };
                        /**
                         * @description Results skipped: `offset=10&k=10` is the 11th to 20th result of `k=20`.
                         * @default 0
                         */
                        offset?: number;
                        /** @description Only results at most this far (fewer than k then). */
                        max_distance?: number;
                        /**
                         * @description Maximal marginal relevance λ: 0 = plain ranking, 1 = most diverse. With D = twice the largest query distance among the candidates, each next result maximises (1−λ)·(1 − d(q,c)/D) − λ·max over chosen s of (1 − d(c,s)/D).
                         * @default 0
                         */
                        diversity?: number;
                        /** @description An attribute (or `category`): at most `group_size` results per value. */
                        group_by?: string;
                        /** @description Results per `group_by` value (default 1). */
                        group_size?: number;
                        /**
                         * @description `average_vector`: search with q = p + 0.5·(p − n). `best_score`: rank the neighbours of each positive by s(c) = P if P > N else −N, with P and N the best similarity 1/(1+d) to any positive and to any negative.
                         * @default average_vector
                         * @enum {unknown}
                         */
                        strategy?: "average_vector" | "best_score";
                        /**
                         * @description Skip unknown example ids (listed in `missing`) instead of answering 404.
                         * @default false
                         */
                        ignore_missing?: boolean;
                    };
                };
            };
            responses: {
                /** @description The nearest catalog items. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Version of the model that embedded the query and the catalog. */
                            model: string;
                            /** @description Nearest first (with `diversity`, in selection order). */
                            results: {
                                /** @description External item id, e.g. `fmnist-test-00042`. */
                                id: string;
                                title: string;
                                category: string;
                                /** @description Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`. */
                                attributes: {
                                    [key: string]: string | number | boolean | string[];
                                };
                                /** @description Euclidean distance between embeddings (smaller is more similar). */
                                distance: number;
                                /** @description `best_score` recommendations only: the score results are ranked by. */
                                score?: number;
                                image_url: string;
                            }[];
                            /** @description With `ignore_missing`: the example ids that were not found. */
                            missing?: string[];
                            /** @description Server-side time of the request, in milliseconds. */
                            took_ms: number;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/similar/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Similar items for up to 32 images at once (the parameters apply to every image) */
        post: {
            parameters: {
                query?: {
                    /** @description Number of results (1..100). */
                    k?: number;
                    /** @description Keep only these categories: repeat the parameter (`category=Sneaker&category=Sandal`) or separate with commas. Unknown categories get 400. */
                    category?: string[];
                    /** @description A filter as JSON text. Attribute and category conditions, AND-ed: `{"brand": "Acme", "price": {"lt": 80}, "in_stock": true, "category": {"in": ["Sneaker", "Sandal"]}}`. Operators: equality (a bare value), `in`, `nin`, `gt`, `gte`, `lt`, `lte`, `exists`, `any` (arrays). Category names match case-insensitively; Fashion-MNIST label numbers (`"3"`) are accepted. */
                    filter?: string;
                    /** @description Results skipped: `offset=10&k=10` is the 11th to 20th result of `k=20`. */
                    offset?: number;
                    /** @description Only results at most this far (fewer than k then). */
                    max_distance?: number;
                    /** @description Maximal marginal relevance λ: 0 = plain ranking, 1 = most diverse. With D = twice the largest query distance among the candidates, each next result maximises (1−λ)·(1 − d(q,c)/D) − λ·max over chosen s of (1 − d(c,s)/D). */
                    diversity?: number;
                    /** @description An attribute (or `category`): at most `group_size` results per value. */
                    group_by?: string;
                    /** @description Results per `group_by` value (default 1). */
                    group_size?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "multipart/form-data": {
                        image: string[];
                    };
                    "application/json": {
                        images: string[];
                    };
                };
            };
            responses: {
                /** @description The nearest catalog items of each query. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            model: string;
                            /** @description One result list per query, in request order. */
                            queries: {
                                results: {
                                    /** @description External item id, e.g. `fmnist-test-00042`. */
                                    id: string;
                                    title: string;
                                    category: string;
                                    /** @description Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`. */
                                    attributes: {
                                        [key: string]: string | number | boolean | string[];
                                    };
                                    /** @description Euclidean distance between embeddings (smaller is more similar). */
                                    distance: number;
                                    /** @description `best_score` recommendations only: the score results are ranked by. */
                                    score?: number;
                                    image_url: string;
                                }[];
                                missing?: string[];
                            }[];
                            took_ms: number;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/recommendations/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Up to 32 POST /recommendations queries at once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        queries: {
                            /** @description Items the results should look like. */
                            positive: string[];
                            /**
                             * @description Items the results should not look like.
                             * @default []
                             */
                            negative?: string[];
                            /**
                             * @description Number of results (1..100).
                             * @default 10
                             */
                            k?: number;
                            /** @description Keep only these categories: repeat the parameter (`category=Sneaker&category=Sandal`) or separate with commas. Unknown categories get 400. */
                            category?: string[];
                            /** @description Attribute and category conditions, AND-ed: `{"brand": "Acme", "price": {"lt": 80}, "in_stock": true, "category": {"in": ["Sneaker", "Sandal"]}}`. Operators: equality (a bare value), `in`, `nin`, `gt`, `gte`, `lt`, `lte`, `exists`, `any` (arrays). Category names match case-insensitively; Fashion-MNIST label numbers (`"3"`) are accepted. */
                            filter?: {
                                [key: string]: unknown;
                            };
                            /**
                             * @description Results skipped: `offset=10&k=10` is the 11th to 20th result of `k=20`.
                             * @default 0
                             */
                            offset?: number;
                            /** @description Only results at most this far (fewer than k then). */
                            max_distance?: number;
                            /**
                             * @description Maximal marginal relevance λ: 0 = plain ranking, 1 = most diverse. With D = twice the largest query distance among the candidates, each next result maximises (1−λ)·(1 − d(q,c)/D) − λ·max over chosen s of (1 − d(c,s)/D).
                             * @default 0
                             */
                            diversity?: number;
                            /** @description An attribute (or `category`): at most `group_size` results per value. */
                            group_by?: string;
                            /** @description Results per `group_by` value (default 1). */
                            group_size?: number;
                            /**
                             * @description `average_vector`: search with q = p + 0.5·(p − n). `best_score`: rank the neighbours of each positive by s(c) = P if P > N else −N, with P and N the best similarity 1/(1+d) to any positive and to any negative.
                             * @default average_vector
                             * @enum {unknown}
                             */
                            strategy?: "average_vector" | "best_score";
                            /**
                             * @description Skip unknown example ids (listed in `missing`) instead of answering 404.
                             * @default false
                             */
                            ignore_missing?: boolean;
                        }[];
                    };
                };
            };
            responses: {
                /** @description The nearest catalog items of each query. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            model: string;
                            /** @description One result list per query, in request order. */
                            queries: {
                                results: {
                                    /** @description External item id, e.g. `fmnist-test-00042`. */
                                    id: string;
                                    title: string;
                                    category: string;
                                    /** @description Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`. */
                                    attributes: {
                                        [key: string]: string | number | boolean | string[];
                                    };
                                    /** @description Euclidean distance between embeddings (smaller is more similar). */
                                    distance: number;
                                    /** @description `best_score` recommendations only: the score results are ranked by. */
                                    score?: number;
                                    image_url: string;
                                }[];
                                missing?: string[];
                            }[];
                            took_ms: number;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The served model with its evaluation figures, the catalog, the index and the latest rebuild */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The served model (null while loading), catalog, index and the latest rebuild job. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            model: {
                                version: string;
                                name: string | null;
                                /** @description `onnxruntime`, `tfjs-wasm`, ... */
                                engine: string | null;
                                arch: string | null;
                                loss: string | null;
                                /** Format: date-time */
                                trained_at: string | null;
                                /** @description `npm run eval`'s figures: 10,000 test queries against the 60,000 training images. */
                                evaluation: {
                                    p_at_1: number;
                                    map_at_r: number;
                                    knn_accuracy: number;
                                } | null;
                                /** @description What the serving engine applies after the network's embedding (`npm run model:head`): each image averaged with its mirror image, a pull toward the class vectors of the cosine head. */
                                embedding_head: {
                                    mirror_average: boolean;
                                    class_pull: {
                                        weight: number;
                                        scale: number;
                                    } | null;
                                };
                            } | null;
                            catalog: {
                                items: number;
                                categories: {
                                    category: string;
                                    count: number;
                                }[];
                            };
                            index: {
                                size: number;
                                build_id: number | null;
                                params: {
                                    M: number;
                                    efConstruction: number;
                                    efSearch: number;
                                } | null;
                                /** Format: date-time */
                                built_at: string | null;
                                build_seconds: number | null;
                            } | null;
                            /** @description An index rebuild job. */
                            job: {
                                /** @description Job id. */
                                id: number;
                                /** @enum {string} */
                                type: "index-rebuild";
                                /**
                                 * @description queued → embedding → building → verifying → active (served) | failed.
                                 * @enum {unknown}
                                 */
                                status: "queued" | "embedding" | "building" | "verifying" | "active" | "failed";
                                /** @description The model asked for (a name beside MODEL_DIR), or the served version. */
                                model: string;
                                /** @description Version of the model the index is built for, once loaded. */
                                model_version: string | null;
                                /** @description Catalog index build id, once recorded. */
                                build_id: number | null;
                                /** @description Fraction done of the current phase. */
                                progress: number;
                                item_count: number | null;
                                /** @description Why the job failed. */
                                error: string | null;
                                /** Format: date-time */
                                started_at: string;
                                /** Format: date-time */
                                finished_at: string | null;
                            } | null;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/map": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A 2-D map (UMAP) of a sample of the served embeddings
         * @description Computed once per served index in the background after the first request (seconds); until then 503 `MAP_NOT_READY` with Retry-After.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description 2-D UMAP projection of a sample of the served embeddings. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            model: string;
                            build_id: number | null;
                            /** @description A sample of up to 5,000 catalog items, in [0, 1] x [0, 1]. */
                            points: {
                                /** @description External item id, e.g. `fmnist-test-00042`. */
                                id: string;
                                category: string;
                                x: number;
                                y: number;
                            }[];
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/index/rebuild": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rebuild the index (admin), optionally with another saved model
         * @description Embeds the catalog with the model (only items without an embedding for it), builds and verifies a new HNSW index, then swaps model and index in together; until then the current ones keep serving. Answers 202 with the job at once; 409 with the running job while one runs.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description Optional; an empty body rebuilds with the model now served. */
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Name of a saved model beside MODEL_DIR (e.g. `default` for `models/default`); default: the model now served. */
                        model?: string;
                    } | null;
                };
            };
            responses: {
                /** @description An index rebuild job. */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Job id. */
                            id: number;
                            /** @enum {string} */
                            type: "index-rebuild";
                            /**
                             * @description queued → embedding → building → verifying → active (served) | failed.
                             * @enum {unknown}
                             */
                            status: "queued" | "embedding" | "building" | "verifying" | "active" | "failed";
                            /** @description The model asked for (a name beside MODEL_DIR), or the served version. */
                            model: string;
                            /** @description Version of the model the index is built for, once loaded. */
                            model_version: string | null;
                            /** @description Catalog index build id, once recorded. */
                            build_id: number | null;
                            /** @description Fraction done of the current phase. */
                            progress: number;
                            item_count: number | null;
                            /** @description Why the job failed. */
                            error: string | null;
                            /** Format: date-time */
                            started_at: string;
                            /** Format: date-time */
                            finished_at: string | null;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description A rebuild is already running: the error and that job. */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                            };
                            /** @description An index rebuild job. */
                            job: {
                                /** @description Job id. */
                                id: number;
                                /** @enum {string} */
                                type: "index-rebuild";
                                /**
                                 * @description queued → embedding → building → verifying → active (served) | failed.
                                 * @enum {unknown}
                                 */
                                status: "queued" | "embedding" | "building" | "verifying" | "active" | "failed";
                                /** @description The model asked for (a name beside MODEL_DIR), or the served version. */
                                model: string;
                                /** @description Version of the model the index is built for, once loaded. */
                                model_version: string | null;
                                /** @description Catalog index build id, once recorded. */
                                build_id: number | null;
                                /** @description Fraction done of the current phase. */
                                progress: number;
                                item_count: number | null;
                                /** @description Why the job failed. */
                                error: string | null;
                                /** Format: date-time */
                                started_at: string;
                                /** Format: date-time */
                                finished_at: string | null;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Status, progress and error of a job (admin) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Job id. */
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description An index rebuild job. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Job id. */
                            id: number;
                            /** @enum {string} */
                            type: "index-rebuild";
                            /**
                             * @description queued → embedding → building → verifying → active (served) | failed.
                             * @enum {unknown}
                             */
                            status: "queued" | "embedding" | "building" | "verifying" | "active" | "failed";
                            /** @description The model asked for (a name beside MODEL_DIR), or the served version. */
                            model: string;
                            /** @description Version of the model the index is built for, once loaded. */
                            model_version: string | null;
                            /** @description Catalog index build id, once recorded. */
                            build_id: number | null;
                            /** @description Fraction done of the current phase. */
                            progress: number;
                            item_count: number | null;
                            /** @description Why the job failed. */
                            error: string | null;
                            /** Format: date-time */
                            started_at: string;
                            /** Format: date-time */
                            finished_at: string | null;
                        };
                    };
                };
                /** @description Every error response has this shape. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
                /** @description Every error response has this shape. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                /** @description Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`. */
                                code: string;
                                /** @description Human-readable explanation. */
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.yaml": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This OpenAPI document (the repository root `openapi.yaml`) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OpenAPI 3 document, YAML */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/yaml": string;
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: never;
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
