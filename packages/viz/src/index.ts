/** @gradgraph/viz: graph snapshots, DOT export and SVG rendering, training plots, a report page. */
export {};
