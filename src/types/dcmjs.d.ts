// dcmjs ships no TypeScript types; this declares the small part we use.
declare module 'dcmjs' {
  const dcmjs: {
    data: {
      DicomMessage: {
        readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string; includeUntilTagValue?: boolean; noCopy?: boolean }): { meta: Record<string, any>; dict: Record<string, any> };
      };
      DicomDict: new (meta: Record<string, any>) => { dict: Record<string, any>; meta: Record<string, any>; write(options?: Record<string, any>): ArrayBuffer };
      DicomMetaDictionary: {
        naturalizeDataset(ds: Record<string, any>): Record<string, any>;
        denaturalizeDataset(ds: Record<string, any>): Record<string, any>;
        uid(): string;
        date(): string;
        time(): string;
        dictionary: Record<string, any>;
        nameMap: Record<string, any>;
        punctuateTag(tag: string): string;
        unpunctuateTag(tag: string): string;
      };
      datasetToBuffer?(ds: Record<string, any>): Buffer;
      datasetToBlob?(ds: Record<string, any>): Blob;
    };
    [k: string]: any;
  };
  export default dcmjs;
}
